packer {
  required_version = ">= 1.14.2"
}

hcp_packer_registry {
  bucket_name = "jenkins-ha-ami"
  description = "Jenkins HA controller image (demo, null builder)"
  bucket_labels = { "team" = "platform" }
  build_labels  = { "os" = "ubuntu-24.04" }
}

source "null" "jenkins" {
  communicator = "none"
}

build {
  sources = ["source.null.jenkins"]
}
