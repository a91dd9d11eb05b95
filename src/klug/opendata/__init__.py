"""Open data: DCAT-AP.de catalogue, exports, API keys for developers."""
