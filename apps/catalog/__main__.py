from apps.catalog.app import build_app

build_app().synth()
