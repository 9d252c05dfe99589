# syntax=docker/dockerfile:1
# ka-pipeline on the official Airflow 3 image, installed as the image's non-root `airflow`
# user: the runtime lock (requirements.lock, which pins the same apache-airflow 3.3.2)
# and the project's wheel, not editable, carrying sql/ and expectations/ inside the
# package. No dev tools (pytest, ruff) and no source tree end up in the image.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11

# Stage 1: build the wheel (PEP 517, as `pip install .` does).
FROM ${AIRFLOW_IMAGE} AS wheel
COPY --chown=airflow:root pyproject.toml README.md /tmp/src/
COPY --chown=airflow:root ka_pipeline /tmp/src/ka_pipeline
COPY --chown=airflow:root sql /tmp/src/sql
COPY --chown=airflow:root expectations /tmp/src/expectations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /tmp/dist /tmp/src

# Stage 2: the runtime image.
FROM ${AIRFLOW_IMAGE}
USER airflow
COPY --chown=airflow:root requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir -r /tmp/requirements.lock
RUN --mount=type=bind,from=wheel,source=/tmp/dist,target=/tmp/dist \
    pip install --no-cache-dir --no-deps /tmp/dist/*.whl
COPY --chown=airflow:root dags /opt/airflow/dags
ENV KA_HOME=/opt/airflow/ka-data
