# Jenkins HA controller AMI, tracked in HCP Packer bucket jenkins-ha-ami.
# Registry metadata comes from the top-level hcp_packer_registry block below; there is no
# `post-processor "hcp"` in Packer. The channel is assigned by hcp-packer-action after the scan.
packer {
  required_version = ">= 1.14.2"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "aws_region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type    = list(string)
  default = ["us-west-2"]
}

variable "jenkins_version" {
  type    = string
  default = "2.479.3"
}

hcp_packer_registry {
  bucket_name = "jenkins-ha-ami"
  description = "Jenkins HA controller image: Ubuntu 24.04, Jenkins LTS, hardened"

  bucket_labels = {
    "team"    = "platform"
    "service" = "jenkins"
  }

  build_labels = {
    "os"              = "ubuntu-24.04"
    "jenkins-version" = var.jenkins_version
  }
}

data "amazon-ami" "ubuntu" {
  region      = var.aws_region
  owners      = ["099720109477"]
  most_recent = true
  filters = {
    name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
    virtualization-type = "hvm"
  }
}

source "amazon-ebs" "jenkins" {
  region        = var.aws_region
  ami_regions   = var.copy_regions
  source_ami    = data.amazon-ami.ubuntu.id
  instance_type = "t3.medium"
  ssh_username  = "ubuntu"
  ami_name      = "jenkins-ha-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  tags = {
    "hcp-packer-fingerprint" = packer.versionFingerprint
  }
}

build {
  sources = ["source.amazon-ebs.jenkins"]

  provisioner "shell" {
    environment_vars = ["JENKINS_VERSION=${var.jenkins_version}"]
    inline = [
      "sudo apt-get update",
      "sudo apt-get install -y openjdk-17-jre-headless",
      "curl -fsSL https://pkg.jenkins.io/debian-stable/jenkins.io-2023.key | sudo tee /usr/share/keyrings/jenkins-keyring.asc >/dev/null",
      "echo 'deb [signed-by=/usr/share/keyrings/jenkins-keyring.asc] https://pkg.jenkins.io/debian-stable binary/' | sudo tee /etc/apt/sources.list.d/jenkins.list",
      "sudo apt-get update && sudo apt-get install -y jenkins=$JENKINS_VERSION",
      "sudo systemctl disable jenkins",
    ]
  }
}
