from apps.all import build_app

build_app().synth()
