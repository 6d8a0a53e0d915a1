"""Prompts: templates with placeholders, rendered with your variables (`wb.prompts`)."""
