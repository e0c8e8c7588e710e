# Read the Jenkins HA AMI from an HCP Packer channel. `hcp_packer_artifact` is the current data
# source (`hcp_packer_image` and `hcp_packer_iteration` are deprecated). It refuses revoked
# versions, so a revoked image fails the plan instead of being deployed.
terraform {
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
  bucket_name  = "jenkins-ha-ami"
  channel_name = var.channel
  platform     = "aws"
  region       = var.aws_region
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
