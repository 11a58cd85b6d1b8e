from apps.ingest.app import build_app

build_app().synth()
