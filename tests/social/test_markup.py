"""The Markdown subset is safe and finds tags, mentions and links."""

from parvis.social.markup import plain_text, render


def test_raw_html_and_script_urls_never_pass() -> None:
    result = render("<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>")
    assert "<script" not in result.html
    assert "javascript:" not in result.html.replace("[x](javascript:alert(1))", "")
    assert "<img" not in result.html
    assert "onerror" not in result.html.replace("onerror=y&gt;", "")


def test_tags_mentions_and_links_are_linked_and_collected() -> None:
    result = render("Hi @ana_b see #Town and https://example.org/x but not mail#hash or a@b.c")
    assert result.tags == ["town"]
    assert result.mentions == ["ana_b"]
    assert result.links == ["https://example.org/x"]
    assert 'href="/tags/town"' in result.html
    assert 'href="/@ana_b"' in result.html
    assert 'rel="nofollow noopener noreferrer ugc"' in result.html


def test_headings_only_in_articles() -> None:
    assert "<h2>" not in render("## Title").html
    assert "<h2>Title</h2>" in render("## Title", article=True).html


def test_plain_text_unescapes_entities() -> None:
    assert plain_text(render("Tom & Jerry <3").html) == "Tom & Jerry <3"
