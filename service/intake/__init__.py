"""Intake: articles extracted, normalised and stored, and the incidents they touch regrouped."""
