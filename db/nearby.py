"""Open job posts nearest a point, by great-circle distance."""

from __future__ import annotations

from dataclasses import dataclass
from math import asin, cos, radians, sin, sqrt

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import JobPost

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class NearbyPost:
    """A job post and how far it is from the seeker."""

    id: int
    code: str
    title: str
    place: str
    pay_yuan_month: int
    km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points, in kilometres."""
    dlat = radians(lat2 - lat1)
    dlon = radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(min(1.0, a)))


def nearest_posts(session: Session, lat: float, lon: float, limit: int = 3) -> list[NearbyPost]:
    """The open posts with coordinates nearest (lat, lon), nearest first (a scan: fine for
    the thousands of posts an office has; a bounding box would come first beyond that)."""
    rows = session.execute(
        select(
            JobPost.id,
            JobPost.code,
            JobPost.title,
            JobPost.place,
            JobPost.pay_yuan_month,
            JobPost.lat,
            JobPost.lon,
        ).where(JobPost.status == "open", JobPost.lat.is_not(None), JobPost.lon.is_not(None))
    )
    found = [
        NearbyPost(id_, code, title, place, pay, distance_km(lat, lon, post_lat, post_lon))
        for id_, code, title, place, pay, post_lat, post_lon in rows
        if post_lat is not None and post_lon is not None
    ]
    found.sort(key=lambda post: (post.km, post.code))
    return found[:limit]
