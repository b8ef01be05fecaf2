# The API image: `cdp serve` on uvicorn, configured entirely by CDP_* variables.
# Tags are pinned (bump them deliberately); every Python package comes from
# requirements.lock, the same versions CI tested.
FROM python:3.12.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY cdp ./cdp
COPY graphql_schema ./graphql_schema
COPY resolvers ./resolvers
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip wheel --no-cache-dir --wheel-dir /wheels -c requirements.lock /wheels/cdp-*.whl

FROM python:3.12.11-slim-bookworm
RUN useradd --create-home --uid 10001 cdp
COPY --from=build /wheels /wheels
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --no-index --find-links /wheels -c /tmp/requirements.lock cdp \
    && rm -rf /wheels /tmp/requirements.lock
# The shipped demo program as a starting point: mount your own over it.
COPY cdp/loyalty/demo_program.toml /etc/cdp/program.toml
USER cdp
WORKDIR /home/cdp
ENV CDP_ENV=production \
    CDP_HOST=0.0.0.0 \
    CDP_PORT=8000 \
    CDP_LOG_FORMAT=json \
    CDP_PROGRAM_FILE=/etc/cdp/program.toml
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["cdp", "serve"]
