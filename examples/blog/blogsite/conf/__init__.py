# Settings live in this package; the deployed module is blogsite.conf.live.
