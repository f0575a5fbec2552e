"""Public addresses, open to anyone (no sign-in): a watch's dark site and its feed."""

from django.urls import path

from incidents.publishing import public

app_name = "public"
urlpatterns = [
    path("<slug:slug>/", public.status_page, name="status"),
    path("<slug:slug>/feed/", public.status_feed, name="feed"),
    path("<slug:slug>/subscribe/", public.subscribe, name="subscribe"),
    path(
        "<slug:slug>/subscribe/confirm/<str:token>/", public.subscribe_confirm_view, name="subscribe_confirm"
    ),
    path("<slug:slug>/unsubscribe/<str:token>/", public.unsubscribe_view, name="unsubscribe"),
]
