# Issue 12: the classifier's three best departments kept on the ticket for the dispatcher.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0002_faq_english'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='suggested_top3',
            field=models.JSONField(blank=True, default=list, verbose_name='suggested top three'),
        ),
    ]
