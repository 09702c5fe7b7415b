from btam.meetings.tests.helpers import case, leader, member  # noqa: F401 (fixtures)
