"""hcp-packer-action: Packer builds verified in the HCP Packer registry, moved through channels."""

__version__ = "0.1.0"
