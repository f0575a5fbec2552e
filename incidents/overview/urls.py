"""The overview at the site root, named "home" (outside the incidents namespace: it is the home page)."""

from django.urls import path

from incidents.overview.views import overview_page

urlpatterns = [path("", overview_page, name="home")]
