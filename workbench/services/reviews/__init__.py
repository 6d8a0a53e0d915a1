"""Reviews (issue 26): people label run results; the judge is measured against them."""

from workbench.services.reviews.queue import ReviewItem, ReviewQueue
from workbench.services.reviews.service import Label, ReviewService

__all__ = ["Label", "ReviewItem", "ReviewQueue", "ReviewService"]
