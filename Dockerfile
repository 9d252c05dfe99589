# ka-pipeline on the official Airflow image; the project's lock pins the same Airflow.
FROM apache/airflow:3.3.2-python3.11
WORKDIR /opt/ka
COPY --chown=airflow:root requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=airflow:root ka_pipeline ./ka_pipeline
COPY --chown=airflow:root sql ./sql
COPY --chown=airflow:root expectations ./expectations
COPY --chown=airflow:root dags ./dags
RUN pip install --no-cache-dir --no-deps -e .
