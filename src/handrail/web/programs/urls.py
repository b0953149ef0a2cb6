"""URLs of the library, the builder and the templates, under /programs/."""

from __future__ import annotations

from django.urls import path

from handrail.web.programs import views

app_name = "programs"

urlpatterns = [
    path("library/", views.library_view, name="library"),
    path("library/new/", views.entry_create_view, name="entry-create"),
    path("library/<int:entry_id>/", views.entry_view, name="entry"),
    path("library/<int:entry_id>/edit/", views.entry_edit_view, name="entry-edit"),
    path("library/<int:entry_id>/copy/", views.entry_copy_view, name="entry-copy"),
    path("library/<int:entry_id>/favourite/", views.entry_favourite_view, name="entry-favourite"),
    path("library/<int:entry_id>/media/", views.media_upload_view, name="media-upload"),
    path("media/<int:media_id>/", views.media_file_view, name="media-file"),
    path("media/<int:media_id>/delete/", views.media_delete_view, name="media-delete"),
    path("templates/", views.template_list_view, name="templates"),
    path(
        "templates/<int:template_id>/delete/", views.template_delete_view, name="template-delete"
    ),
    path(
        "templates/<int:template_id>/handout.pdf",
        views.template_handout_view,
        name="template-handout",
    ),
    path("untaught/", views.untaught_view, name="untaught"),
    path("new/<int:case_id>/", views.program_create_view, name="create"),
    path("<int:program_id>/", views.program_builder_view, name="builder"),
    path("<int:program_id>/items/", views.item_add_view, name="item-add"),
    path("<int:program_id>/items/<int:item_id>/", views.item_update_view, name="item-update"),
    path(
        "<int:program_id>/items/<int:item_id>/remove/", views.item_remove_view, name="item-remove"
    ),
    path("<int:program_id>/items/<int:item_id>/move/", views.item_move_view, name="item-move"),
    path("<int:program_id>/reorder/", views.program_reorder_view, name="reorder"),
    path("<int:program_id>/sections/", views.section_add_view, name="section-add"),
    path("<int:program_id>/issue/", views.program_issue_view, name="issue"),
    path("<int:program_id>/versions/", views.program_versions_view, name="versions"),
    path("<int:program_id>/handout.pdf", views.program_handout_view, name="handout"),
    path("<int:program_id>/template/", views.template_from_program_view, name="template-from"),
]
