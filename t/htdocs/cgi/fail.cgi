#!/bin/sh
# Fails before writing headers: httpd answers 500.
exit 1
