"""Demo data: Heilongjiang places, kinds of work, public-welfare and private posts, a job fair."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import JobCategory, JobFair, JobPost, Place
from reference import Reference

# code, title, employer, category, place, yuan a month, hours, who it suits, public welfare
POSTS = [
    (
        "HRB-TRAFFIC-1",
        "Traffic coordinator",
        "Harbin Traffic Police",
        "traffic",
        "Nangang",
        1800,
        "Mon-Fri 7:00-11:00, 16:00-19:00",
        "Men and women 40-60, able to stand",
        True,
    ),
    (
        "HRB-SECURITY-1",
        "Community security guard",
        "Daoli Street Office",
        "security",
        "Daoli",
        2000,
        "Shifts, 12 hours, 4 days a week",
        "Men up to 60",
        True,
    ),
    (
        "HRB-CLEAN-1",
        "Road cleaner",
        "Nangang Sanitation Team",
        "cleaning",
        "Nangang",
        1700,
        "Mon-Sat 5:00-11:00",
        "Anyone fit for outdoor work",
        True,
    ),
    (
        "HRB-GREEN-1",
        "Green space worker",
        "Daoli Parks Office",
        "gardening",
        "Daoli",
        1750,
        "Mon-Fri 8:00-16:00",
        "Anyone, training given",
        True,
    ),
    (
        "HRB-BREAKFAST-1",
        "Breakfast stall helper",
        "Daoli Breakfast Project",
        "cooking",
        "Daoli",
        2200,
        "Daily 5:00-10:00, 2 days off a week",
        "People who can cook simple food",
        False,
    ),
    (
        "HRB-CARWASH-1",
        "Waterless car washer",
        "Green Wash Co.",
        "carwash",
        "Daoli",
        2400,
        "Daily 9:00-17:00, shifts",
        "Anyone fit, training given",
        False,
    ),
    (
        "HRB-VEG-1",
        "Vegetable delivery driver",
        "Daoli Green Vegetables",
        "delivery",
        "Daoli",
        3000,
        "Mon-Sat 6:00-14:00",
        "Driving licence C1",
        False,
    ),
    (
        "HRB-CLEAN-2",
        "Community cleaner",
        "Nangang Housing Office",
        "cleaning",
        "Nangang",
        1700,
        "Mon-Fri 7:00-15:00",
        "Women and men 40-60",
        True,
    ),
    (
        "QQH-FARM-1",
        "Cattle farm worker",
        "Fuyu Re-employment Cattle Base",
        "farming",
        "Fuyu",
        2600,
        "Daily, housing given",
        "People used to farm work",
        False,
    ),
    (
        "QQH-FARM-2",
        "Pig farm worker",
        "Gannan Re-employment Pig Base",
        "farming",
        "Gannan",
        2500,
        "Daily, meals given",
        "People used to farm work",
        False,
    ),
    (
        "MDJ-CLEAN-1",
        "Road cleaner",
        "Mudanjiang Sanitation",
        "cleaning",
        "Mudanjiang",
        1650,
        "Mon-Sat 5:00-11:00",
        "Anyone fit for outdoor work",
        True,
    ),
    (
        "DQ-FACTORY-1",
        "Packing line worker",
        "Daqing Food Factory",
        "factory",
        "Daqing",
        2800,
        "Shifts, 8 hours",
        "Men and women up to 55",
        False,
    ),
    (
        "SYS-CARE-1",
        "Home care helper",
        "Shuangyashan Care Service",
        "care",
        "Shuangyashan",
        2300,
        "Mon-Fri 8:00-17:00",
        "Women and men with patience, training given",
        False,
    ),
    (
        "HG-SECURITY-1",
        "Office building guard",
        "Hegang Government Offices",
        "security",
        "Hegang",
        1900,
        "Nights, 3 a week",
        "Men and women up to 60",
        True,
    ),
]


def load_reference_rows(session: Session, reference: Reference) -> None:
    """Insert places and categories from reference/reference.yaml that are not there yet."""
    known_places = set(session.scalars(select(Place.name)))
    for place in reference.places:
        if place.name not in known_places:
            session.add(
                Place(
                    name=place.name, kind=place.kind, city=place.city, lat=place.lat, lon=place.lon
                )
            )
    known_categories = set(session.scalars(select(JobCategory.slug)))
    for category in reference.categories:
        if category.slug not in known_categories:
            session.add(JobCategory(slug=category.slug, name=category.name))
    session.flush()


def load_demo(session: Session, reference: Reference, now: datetime) -> bool:
    """Add demo posts and a fair to an empty database; False if there was data already."""
    if session.scalar(select(func.count(JobPost.id))):
        return False
    for code, title, employer, category, place, pay, hours, suits, welfare in POSTS:
        info = reference.place(place)
        session.add(
            JobPost(
                code=code,
                title=title,
                employer=employer,
                category=category,
                place=place,
                pay_yuan_month=pay,
                hours=hours,
                suits=suits,
                public_welfare=welfare,
                lat=info.lat if info else None,
                lon=info.lon if info else None,
                created_at=now,
            )
        )
    local = now.astimezone(ZoneInfo("Asia/Harbin"))
    fair_day = (local + timedelta(days=21)).replace(hour=9, minute=0, second=0, microsecond=0)
    expo = reference.place("Nangang")
    session.add(
        JobFair(
            name="Re-employment Job Fair for 10,000 People",
            starts_at=fair_day,
            venue="Harbin International Expo Hall",
            district="Nangang",
            employers=500,
            posts=20000,
            lat=expo.lat if expo else None,
            lon=expo.lon if expo else None,
            created_at=now,
        )
    )
    session.flush()
    return True
