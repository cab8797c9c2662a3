"""Ship the top-level resources/ folder in the wheel as desktop_app/resources (metadata: pyproject), and
build the C loops over database images where a compiler is found (optional: numpy does the same without)."""

from setuptools import Extension, find_packages, setup

setup(
    packages=[*find_packages(include=["desktop_app", "desktop_app.*"]), "desktop_app.resources"],
    package_dir={"desktop_app.resources": "resources"},
    package_data={"desktop_app.resources": ["*.py", "icons/*", "linux/*"]},
    ext_modules=[
        Extension(
            "desktop_app.core.pagefile._kernels",
            ["desktop_app/core/pagefile/_kernels.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ],
)
