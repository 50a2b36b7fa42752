# deanalyze in a container: the weekly audit by default.
#
#   docker build -t deanalyze:0.1.0 .
#   docker run --rm -v "$PWD/audit.toml:/config/audit.toml:ro" -v "$PWD/reports:/reports" deanalyze:0.1.0
#
# Any other command: docker run --rm deanalyze:0.1.0 spark-logs s3://bucket/spark-events/
# Two stages: the wheel is built from the context in the first, so the image holds the
# installed package only (no sources, no build tools).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY analyzer ./analyzer
COPY connectors ./connectors
COPY rules ./rules
COPY reports ./reports
RUN python -m pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="deanalyze" \
      org.opencontainers.image.description="Data-pipeline cost and performance analyzer: Spark, BigQuery, Snowflake" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOME=/tmp XDG_CACHE_HOME=/tmp/.cache
COPY --from=build /wheels /wheels
# The live readers (BigQuery, Snowflake) and the object stores of Spark logs (S3, GCS, Azure).
RUN set -- /wheels/deanalyze-*.whl \
    && python -m pip install "$1[bigquery,snowflake,s3,gcs,azure]" \
    && rm -rf /wheels \
    && groupadd --gid 10001 deanalyze \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin deanalyze \
    && mkdir -p /config /reports \
    && chown 10001:10001 /reports
# Numeric, so that Kubernetes' runAsNonRoot can check it without /etc/passwd.
USER 10001:10001
WORKDIR /reports
# The config is mounted read-only at /config (a ConfigMap): reports go to /reports, a volume.
ENTRYPOINT ["deanalyze"]
CMD ["audit", "--config", "/config/audit.toml", "--output-dir", "/reports"]
