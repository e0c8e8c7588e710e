# Minimal image for the core loop; the hardened, Packer-carrying image is tracked separately.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /action
COPY pyproject.toml README.md ./
COPY hcp_action ./hcp_action
COPY entrypoint.py ./
RUN pip install --no-cache-dir /action
ENTRYPOINT ["python", "/action/entrypoint.py"]
