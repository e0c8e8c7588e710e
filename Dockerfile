# hcp-packer-action: Python action + a verified, pinned Packer, run under tini as PID 1.
#
#   docker build .                                  # Packer from HashiCorp, signature-checked
#   docker build --build-arg PACKER_SOURCE=context . # Packer from docker/packer/packer
#   docker buildx build --platform linux/amd64,linux/arm64 .   # the release: one image, two arches
#   docker build --build-arg BASE_IMAGE=localhost/debian:bookworm-slim .  # a local base
# The official image, pinned by digest (bookworm-slim, multi-arch index); bump it on purpose.
ARG BASE_IMAGE=debian:bookworm-slim@sha256:78d2f66e0fec9e5a39fb2c72ea5e052b548df75602b5215ed01a17171529f706
ARG PACKER_SOURCE=release

# ---- Packer, downloaded and verified (SHA256SUMS signature + checksum) ---------------------
FROM ${BASE_IMAGE} AS packer-release
ARG PACKER_VERSION=1.16.0
# Set by BuildKit/buildah for the platform being built; empty under the legacy builder, where the
# script asks dpkg. A default here would override the automatic value (arm64 got amd64).
ARG TARGETARCH
SHELL ["/bin/sh", "-eu", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg unzip \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
COPY docker/hashicorp-release-key.fingerprint /tmp/hashicorp-release-key.fingerprint
COPY docker/install-packer.sh /tmp/install-packer.sh
RUN /tmp/install-packer.sh "${PACKER_VERSION}" "${TARGETARCH}"

# ---- Packer from the build context (smoke tests, air-gapped mirrors) -----------------------
# The directory, not the (git-ignored) binary: the legacy builder builds every stage, and a
# stage that names an absent file would fail every build. The final COPY needs the binary only
# when this stage is chosen.
FROM ${BASE_IMAGE} AS packer-context
COPY docker/packer/ /out/

# A stage of this file chosen by PACKER_SOURCE, not an image from a registry.
# hadolint ignore=DL3006
FROM packer-${PACKER_SOURCE} AS packer

# ---- the action ---------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG PIP_CERT=""
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/OWNER/hcp-packer-action
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.title="hcp-packer-action" \
      org.opencontainers.image.licenses="MPL-2.0"
# PYTHONSAFEPATH: `python -m hcp_action.cli` run in /github/workspace must not import a
# directory called hcp_action/ from the user's repository instead of ours.
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONSAFEPATH=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/action \
    TINI_SUBREAPER=1 \
    CHECKPOINT_DISABLE=1
SHELL ["/bin/sh", "-eu", "-c"]
# Debian's packages are signed by the distribution; their versions follow BASE_IMAGE.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
# Dependencies first (hash-locked), code second: a code change reuses this layer.
COPY requirements.lock /tmp/requirements.lock
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-deps --require-hashes ${PIP_CERT:+--cert "$PIP_CERT"} \
      -r /tmp/requirements.lock \
 && /opt/venv/bin/pip uninstall -q -y pip setuptools \
 && rm /tmp/requirements.lock \
 && /opt/venv/bin/python -c "import io, hcl2; hcl2.load(io.StringIO('a = 1'))"
COPY --from=packer /out/packer /usr/local/bin/packer
COPY docker/hcp-packer-action /usr/local/bin/hcp-packer-action
COPY entrypoint.py /action/entrypoint.py
COPY hcp_action /action/hcp_action
# GitHub runs container actions as root with /github/workspace as the working directory.
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/venv/bin/python", "/action/entrypoint.py"]
