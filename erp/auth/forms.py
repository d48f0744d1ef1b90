from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    login = StringField(_l("User name or e-mail"), validators=[DataRequired(), Length(max=255)],
                        render_kw={"autofocus": True, "autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=255)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"))
    timezone = SelectField(_l("Time zone"))
