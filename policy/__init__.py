"""The guardrails policy pack (``__main__.py``); a package so tools can name its module ``policy.__main__``."""
