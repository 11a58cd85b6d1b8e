from apps.storefront.app import build_app

build_app().synth()
