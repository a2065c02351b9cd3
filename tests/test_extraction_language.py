import pytest

from extraction.language import guess_language

EN = "The minister said on Monday that the two countries had agreed to work together on trade and that talks would resume in the spring, which was welcomed by the industry."
DE = "Der Minister sagte am Montag, dass die beiden Länder sich auf eine Zusammenarbeit im Handel geeinigt hätten und die Gespräche im Frühjahr fortgesetzt werden, was die Industrie begrüßte."
FR = "Le ministre a déclaré lundi que les deux pays se sont mis d'accord pour travailler ensemble sur le commerce et que les discussions reprendraient au printemps, ce qui a été salué par les industriels."
ES = "El ministro dijo el lunes que los dos países acordaron trabajar juntos en el comercio y que las conversaciones se reanudarían en la primavera, lo que fue bien recibido por la industria."


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (EN, "en"),
        (DE, "de"),
        (FR, "fr"),
        (ES, "es"),
        ("한국 정부는 월요일에 두 나라가 무역 협력에 합의했다고 밝혔다.", "ko"),
        ("Министр заявил в понедельник, что две страны договорились о сотрудничестве в торговле.", "ru"),
        ("Міністр заявив у понеділок, що дві країни домовилися про співпрацю в торгівлі.", "uk"),
        ("Too short to tell.", None),
        ("", None),
        ("1234 5678 ---", None),
    ],
)
def test_guess_language(text, lang):
    assert guess_language(text) == lang
