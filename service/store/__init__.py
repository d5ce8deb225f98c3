"""The store: articles, their facts and the incidents they form, in a real database.

SQLAlchemy over SQLite by default (a file beside the service) or PostgreSQL by URL
(`NEWSFACTS_DB_URL`), its schema made and moved by alembic migrations. It reads facts and
the incidents room's readings; it never calls spaCy or the model.
"""
