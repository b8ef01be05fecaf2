# The API image: `cdp serve` on uvicorn, configured entirely by CDP_* variables.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY cdp ./cdp
COPY graphql_schema ./graphql_schema
COPY resolvers ./resolvers
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 cdp
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
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
