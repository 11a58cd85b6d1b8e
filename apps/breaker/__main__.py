from apps.breaker.app import build_app

build_app().synth()
