"""ScenarioBrowser, driven as a user would: filters, paging, Open, Duplicate, Delete."""

from __future__ import annotations

from workbench import ScenarioCreate, expect, must_contain, user
from workbench.handle import Workbench
from workbench.widgets.scenario_browser import ScenarioBrowser


def make(wb: Workbench, name: str, *, tags: tuple[str, ...] = (), status: str = "DRAFT") -> str:
    spec = ScenarioCreate(
        name=name, tags=tags, status=status, turns=[user("hi"), expect(must_contain("hello"))]
    )
    return wb.scenarios.create(spec).id


def names(browser: ScenarioBrowser) -> list[str]:
    return [row.summary.name for row in browser.rows]


def test_lists_a_page_with_counts_and_pages_on(wb: Workbench) -> None:
    for number in range(5):
        make(wb, f"S{number}")
    browser = ScenarioBrowser(wb.scenarios, page_size=2)
    browser.sort.value = "Name A–Z"
    assert names(browser) == ["S0", "S1"]
    assert browser.page_label.value == "1–2 of 5" and browser.previous_button.disabled
    assert "1 turns" not in browser.rows[0].label.value
    assert "2 turns, 1 expectations" in browser.rows[0].label.value

    browser.next_button.click()
    browser.next_button.click()
    assert names(browser) == ["S4"] and browser.next_button.disabled
    assert browser.page_label.value == "5–5 of 5"


def test_search_status_and_tag_filters(wb: Workbench) -> None:
    make(wb, "Refund policy", tags=("billing",))
    make(wb, "Greeting", tags=("smoke",), status="PUBLISHED")
    browser = ScenarioBrowser(wb.scenarios)
    browser.search.value = "refund"
    assert names(browser) == ["Refund policy"]
    browser.search.value = ""
    browser.status.value = "PUBLISHED"
    assert names(browser) == ["Greeting"]
    browser.status.value = ""
    browser.tags.value = ["billing"]
    assert names(browser) == ["Refund policy"]
    browser.tags.value = ["nothing-has-this"]
    assert browser.rows == [] and browser.page_label.value == "0–0 of 0"


def test_open_shows_the_editor_and_a_save_refreshes_the_list(wb: Workbench) -> None:
    scenario_id = make(wb, "Open me")
    browser = ScenarioBrowser(wb.scenarios)
    browser.rows[0].open_button.click()
    assert browser.editor is not None and browser.editor.scenario_id == scenario_id
    assert browser.editor.name.value == "Open me"

    browser.editor.name.value = "Opened and renamed"
    browser.editor.save_button.click()
    assert names(browser) == ["Opened and renamed"]


def test_duplicate_adds_a_copy(wb: Workbench) -> None:
    make(wb, "Original")
    browser = ScenarioBrowser(wb.scenarios)
    browser.rows[0].duplicate_button.click()
    assert sorted(names(browser)) == ["Original", "Original (copy)"]
    assert browser.message.value == "Duplicated 'Original' as 'Original (copy)'."


def test_delete_asks_first_and_cancel_keeps_it(wb: Workbench) -> None:
    make(wb, "Keep or delete")
    browser = ScenarioBrowser(wb.scenarios)
    delete = browser.rows[0].delete
    delete.delete_button.click()
    assert delete.asking and wb.scenarios.list().total == 1
    delete.cancel_button.click()
    assert not delete.asking and wb.scenarios.list().total == 1

    delete.delete_button.click()
    delete.confirm_button.click()
    assert wb.scenarios.list().total == 0
    assert browser.rows == [] and browser.message.value == "Deleted 'Keep or delete'."


def test_new_scenario_button_opens_an_empty_editor(wb: Workbench) -> None:
    browser = ScenarioBrowser(wb.scenarios)
    browser.new_button.click()
    assert browser.editor is not None and browser.editor.scenario_id is None
    assert repr(browser) == "ScenarioBrowser(0–0 of 0 scenarios shown)"
