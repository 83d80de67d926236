"""Build the one C extension (everything else is in pyproject.toml).

`parvis.live._sendmany` is optional: where it cannot be compiled (no C compiler or Python
headers) the install goes on without it and the live relay writes from the event loop, as
`parvis.live.writer` explains.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "parvis.live._sendmany",
            sources=["parvis/live/_sendmany.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
