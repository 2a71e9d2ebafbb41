"""Builds the portable USB bundle of cbom: `python -m usb_bundle.build` (see usb_bundle/build.py)."""
