from apps.edge.app import build_app

build_app().synth()
