# ringwatch in a container: the built wheel on a slim Python, run as a non-root user, the
# warehouse and its captures on the /data volume, settings from environment variables
# (RINGWATCH_DB, RINGWATCH_CAPTURES, RINGWATCH_CONFIG, PREFECT_API_URL, AWS_*; docs/configuration.md).
#
#   docker build -t ringwatch .                                  # or --build-arg BASE_IMAGE=...
#   docker run --rm -v ringwatch-data:/data ringwatch ringwatch sync
#   docker run --rm -v ringwatch-data:/data ringwatch ringwatch query "SELECT * FROM agency_counts_by_quarter"
#
# No ENTRYPOINT: Prefect's Docker worker runs its own command (prefect flow-run execute) in it.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY flows ./flows
COPY scrapers ./scrapers
COPY warehouse ./warehouse
COPY config ./config
RUN python -m pip install --no-cache-dir build \
    && python -m build --wheel --outdir /wheels .

FROM ${BASE_IMAGE}
# s3: captures and releases on S3 (s3fs); set EXTRAS="" for a local-only image.
ARG EXTRAS=s3
COPY --from=build /wheels /wheels
RUN wheel="$(ls /wheels/ringwatch-*.whl)" \
    && if [ -n "$EXTRAS" ]; then spec="${wheel}[${EXTRAS}]"; else spec="$wheel"; fi \
    && python -m pip install --no-cache-dir "$spec" \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 ringwatch \
    && mkdir -p /data \
    && chown ringwatch:ringwatch /data
USER ringwatch
WORKDIR /data
ENV RINGWATCH_DB=/data/ringwatch.duckdb \
    RINGWATCH_CACHE_DIR=/data/.cache \
    PREFECT_HOME=/data/.prefect \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
CMD ["ringwatch", "--help"]
