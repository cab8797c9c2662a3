"""Ship the top-level resources/ folder in the wheel as desktop_app/resources (metadata: pyproject)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["desktop_app", "desktop_app.*"]), "desktop_app.resources"],
    package_dir={"desktop_app.resources": "resources"},
    package_data={"desktop_app.resources": ["*.py", "icons/*", "linux/*"]},
)
