"""Fields that administrators write in several languages (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from .models import Operation


@register(Operation)
class OperationTranslationOptions(TranslationOptions):
    fields = ("name", "description")
