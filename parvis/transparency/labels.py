"""Human-readable names for the DSA codes and Parvis values that reports show.

The category names are those of the Transparency Database and the 2024/2835 templates (the
notice form in `web.reports` words them for notifiers instead)."""

from __future__ import annotations

CATEGORIES = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information infringements",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "Data protection and privacy violations"
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property infringements",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "Negative effects on civic discourse or elections"
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": "Not specified by the notifier",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Other violation of the terms of service",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and/or fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": (
        "Unsafe, non-compliant or prohibited products"
    ),
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
}

# Restriction types as the Transparency Database and the templates (sections 5-6) name them.
RESTRICTIONS = {
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Visibility: removal",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Visibility: disabling access",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Visibility: demotion",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Visibility: age restriction",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Visibility: interaction restricted",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Visibility: label",
    "DECISION_VISIBILITY_OTHER": "Visibility: other (warning interstitial)",
    "DECISION_MONETARY_SUSPENSION": "Monetary: suspension",
    "DECISION_MONETARY_TERMINATION": "Monetary: termination",
    "DECISION_MONETARY_OTHER": "Monetary: other",
    "DECISION_PROVISION_PARTIAL_SUSPENSION": "Service: partial suspension",
    "DECISION_PROVISION_TOTAL_SUSPENSION": "Service: total suspension",
    "DECISION_PROVISION_PARTIAL_TERMINATION": "Service: partial termination",
    "DECISION_PROVISION_TOTAL_TERMINATION": "Service: total termination",
    "DECISION_ACCOUNT_SUSPENDED": "Account: suspension",
    "DECISION_ACCOUNT_TERMINATED": "Account: termination",
}

# The four kinds of restriction the statement of reasons distinguishes.
RESTRICTION_KINDS = {
    "decision_visibility": "visibility",
    "decision_provision": "provision of the service",
    "decision_account": "account",
    "decision_monetary": "monetary",
}

GROUNDS = {"illegal": "Illegal content", "terms": "Incompatible with the terms of service"}

SOURCES = {
    "notice": "Art. 16 notice",
    "trusted_flagger": "Trusted flagger (Art. 22)",
    "other_notification": "Other notification",
    "own_initiative": "Own initiative",
    "legal_order": "Order of an authority",
}

AUTOMATION = {
    "fully": "Fully automated",
    "partially": "Partially automated",
    "not_automated": "Not automated",
}

NOTICE_OUTCOMES = {
    "received": "Open (not yet decided)",
    "actioned": "Actioned",
    "no_action": "No action",
    "unfounded": "Manifestly unfounded",
}

APPEAL_OUTCOMES = {
    "open": "Open",
    "upheld": "Upheld",
    "reversed": "Reversed",
    "modified": "Partially reversed (modified)",
}


def category(code: str) -> str:
    """A category's name (the code itself when unknown)."""
    return CATEGORIES.get(code, code)
