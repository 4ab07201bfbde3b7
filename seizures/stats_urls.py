"""The figures' pages, mounted at the site root: /o/<slug>/results/ and /statistics/."""

from django.urls import path

from . import stats_views

app_name = "statistics"

urlpatterns = [
    path("o/<slug:slug>/results/", stats_views.results, name="results"),
    path("statistics/", stats_views.statistics, name="statistics"),
]
