"""Editorial content of the portal: site notices and the accessibility statement."""
