# Read the Jenkins HA AMI from HCP Packer. `hcp_packer_artifact` is the current data source
# (`hcp_packer_image` and `hcp_packer_iteration` were removed in provider 0.84.0).
#
# Pin the version the pipeline built and scanned (the action's `version-fingerprint` output):
# a channel read at plan time may hold something else by then. The data source does NOT refuse
# a revoked version (terraform-provider-hcp stopped in 0.23.1; it returns `revoke_at`), so the
# postcondition below fails the plan for a version revoked now or in the past. Needs
# Terraform >= 1.5 (plantimestamp, timecmp).
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    hcp = {
      source  = "hashicorp/hcp"
      version = ">= 0.90.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "version_fingerprint" {
  type        = string
  default     = ""
  description = "The fingerprint the pipeline built (hcp-packer-action's version-fingerprint output). Empty: read var.channel instead."
}

variable "channel" {
  type    = string
  default = "dev"
}

variable "aws_region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region = var.aws_region
}

data "hcp_packer_artifact" "jenkins" {
  bucket_name         = "jenkins-ha-ami"
  version_fingerprint = var.version_fingerprint != "" ? var.version_fingerprint : null
  channel_name        = var.version_fingerprint != "" ? null : var.channel
  platform            = "aws"
  region              = var.aws_region

  lifecycle {
    postcondition {
      condition     = self.revoke_at == null || self.revoke_at == "" || timecmp(self.revoke_at, plantimestamp()) > 0
      error_message = "HCP Packer version ${self.version_fingerprint} is revoked (revoke_at ${coalesce(self.revoke_at, "-")}); build or promote another image."
    }
  }
}

resource "aws_launch_template" "jenkins" {
  name_prefix   = "jenkins-ha-"
  image_id      = data.hcp_packer_artifact.jenkins.external_identifier
  instance_type = "t3.large"

  tag_specifications {
    resource_type = "instance"
    tags = {
      "hcp-packer-fingerprint" = data.hcp_packer_artifact.jenkins.version_fingerprint
    }
  }
}

output "ami_id" {
  value = data.hcp_packer_artifact.jenkins.external_identifier
}
