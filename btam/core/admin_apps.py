from django.contrib.admin.apps import AdminConfig


class BtamAdminConfig(AdminConfig):
    default_site = "btam.core.admin_site.BtamAdminSite"
