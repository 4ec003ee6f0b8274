"""The web console in a real browser (headless Chromium): log in, a rejected and an accepted launch, the live
instances table, the instance page (history, statechart, time travel), a 3-member PostgreSQL cluster, log out.

Reads CELLAR_CONSOLE_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME and CONSOLE_SCREENSHOTS (a folder for the
PNGs) from the environment; prints one line per step and exits non-zero on the first surprise (a metrics panel
showing an error is noted and fails the run at the end), leaving failure.png and the browser's console log
(browser-console.log) in the screenshot folder.
"""
import json
import os
import sys
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ["CELLAR_CONSOLE_URL"].rstrip("/") + "/"
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS") or "console-screenshots"
INSTANCE_NAME = f"console-pg-{int(time.time()) % 100000}"
CLUSTER_NAME = f"console-cluster-{int(time.time()) % 100000}"
# Failures that need not stop the flow: reported at the end, and the run fails.
PROBLEMS = []


def step(text):
    print(f"- {text}", flush=True)


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, seconds=20):
    return WebDriverWait(driver, seconds, poll_frequency=0.3, ignored_exceptions=(StaleElementReferenceException,))


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name)
    # The whole page, not only the 900 px window.
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 900)")
    driver.set_window_size(1280, min(height + 120, 6000))
    driver.save_screenshot(path)
    driver.set_window_size(1280, 900)
    step(f"screenshot {path}")


def go(driver, route):
    """A hash navigation inside the single-page app (no reload)."""
    driver.execute_script("location.hash = arguments[0]", route)


def row_status(driver, table, attribute, resource_id):
    cells = driver.find_elements(By.CSS_SELECTOR, f'#{table} tr[data-{attribute}="{resource_id}"] td.status')
    return cells[0].text.strip() if cells else None


def wait_for_status(driver, table, attribute, resource_id, wanted, seconds, seen=None):
    """Waits until the row's status cell shows `wanted`, collecting the statuses it went through."""
    seen = seen if seen is not None else []

    def reached(_):
        status = row_status(driver, table, attribute, resource_id)
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        if status in ("ERROR", "FAILED"):
            raise AssertionError(f"{resource_id} went to {status} (went through {seen})")
        return status == wanted

    wait(driver, seconds).until(reached, f"{resource_id} did not reach {wanted} in {seconds} s (went through {seen})")
    return seen


def submit_until_listed(driver, button_id, table_id, error_id, attempts=4):
    """Submits a form until the app moves to the table. The server may be restarting (the console then says it
    cannot reach it and nothing was sent): wait until it answers again, then submit again."""
    for _ in range(attempts):
        driver.find_element(By.ID, button_id).click()
        wait(driver, 60).until(lambda d: d.find_elements(By.ID, table_id) or d.find_elements(By.ID, error_id))
        if driver.find_elements(By.ID, table_id):
            return
        message = driver.find_element(By.ID, error_id).text
        assert "reach the server" in message, f"the form was refused: {message}"
        step("the server is unreachable (restarting?); submitting again when it answers")
        wait(driver, 120).until(lambda d: browser_fetch(d, "/console/api/session") == 200, "the server did not come back")
    raise AssertionError(f"#{button_id}: the server stayed unreachable")


def confirm_dialog(driver):
    wait(driver).until(EC.visibility_of_element_located((By.ID, "dialog-ok"))).click()
    wait(driver).until(lambda d: not d.execute_script("return document.getElementById('dialog').open"))


def browser_fetch(driver, path, method="GET"):
    """The status of a fetch from the page (with the console's header, so the cookie counts)."""
    return driver.execute_async_script("""
        const [path, method, done] = arguments;
        fetch(path, {method, credentials: 'same-origin', cache: 'no-store', headers: {'X-Cellar-Console': '1', 'Accept': 'application/json'}})
          .then((r) => done(r.status), (e) => done(String(e)));
    """, path, method)


def open_console(driver):
    """Loads the console, waiting out a server restart (connection refused, 502) for up to two minutes."""
    def loaded(d):
        try:
            d.get(URL)
        except WebDriverException:
            return False
        return d.find_elements(By.ID, "view") and d.execute_script("return Boolean(window.consoleBootId)")

    WebDriverWait(driver, 120, poll_frequency=3).until(loaded, f"{URL} did not load")


def log_in(driver):
    open_console(driver)
    wait(driver).until(EC.visibility_of_element_located((By.ID, "login-user"))).send_keys(os.environ["OS_USERNAME"])
    driver.find_element(By.ID, "login-password").send_keys(os.environ["OS_PASSWORD"])
    driver.find_element(By.ID, "login-project").send_keys(os.environ["OS_PROJECT_NAME"])
    driver.find_element(By.ID, "login-submit").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "instances-table")))
    who = driver.find_element(By.ID, "who-name").text
    assert who == f'{os.environ["OS_USERNAME"]}@{os.environ["OS_PROJECT_NAME"]}', f"header shows {who!r}"
    step(f"logged in as {who}")


def select_by_text_prefix(select_element, prefix):
    select = Select(select_element)
    for option in select.options:
        if option.text.startswith(prefix) or option.get_attribute("value").startswith(prefix):
            select.select_by_value(option.get_attribute("value"))
            return option.text
    raise AssertionError(f"no option starting with {prefix!r} in #{select_element.get_attribute('id')}")


def smallest_flavor(select_element):
    # The console lists flavors smallest first.
    select = Select(select_element)
    select.select_by_index(0)
    return select.first_selected_option.text


def fill_wizard(driver, name):
    go(driver, "#/launch-instance")
    name_input = wait(driver).until(EC.visibility_of_element_located((By.ID, "launch-name")))
    name_input.clear()
    name_input.send_keys(name)
    datastore = select_by_text_prefix(driver.find_element(By.ID, "launch-datastore"), "postgresql")
    flavor = smallest_flavor(driver.find_element(By.ID, "launch-flavor"))
    volume = driver.find_element(By.ID, "launch-volume")
    volume.clear()
    volume.send_keys("1")
    driver.find_element(By.CSS_SELECTOR, '[data-tab="databases"]').click()
    database = wait(driver).until(EC.visibility_of_element_located((By.ID, "launch-database-name-0")))
    database.send_keys("appdb")
    driver.find_element(By.ID, "launch-user-name").send_keys("app")
    driver.find_element(By.ID, "launch-user-password").send_keys("app-Secret-42")
    grant = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#launch-user-databases input[value="appdb"]')))
    if not grant.is_selected():
        grant.click()
    return datastore, flavor


def name_error(driver):
    errors = driver.find_elements(By.ID, "launch-name-error")
    return errors[0].text.strip() if errors and errors[0].is_displayed() else ""


def rejected_launch(driver):
    bad_name = "x" * 257
    fill_wizard(driver, bad_name)
    driver.find_element(By.ID, "launch-submit").click()
    message = wait(driver).until(lambda d: name_error(d), "no error next to #launch-name")
    field_error = driver.find_element(By.XPATH, '//*[@id="launch-name"]/following-sibling::*[contains(@class, "field-error")]')
    assert field_error.text.strip() == message and "instance.name" in message, f"unexpected error next to the name: {message!r}"
    assert driver.find_element(By.ID, "launch-name").get_attribute("aria-invalid") == "true"
    step(f"the API's message is shown at the name: {message!r}")
    shot(driver, "launch-wizard.png")
    body = driver.execute_async_script("""
        const done = arguments[0];
        import('/console/js/api.js').then((api) => api.trove('/instances/detail?limit=1000')).then((b) => done(b), (e) => done(String(e)));
    """)
    names = [instance["name"] for instance in body["instances"]]
    assert bad_name not in names, "the rejected instance was created"
    step("nothing was created")


def launch_instance(driver, boot_id):
    name_input = driver.find_element(By.ID, "launch-name")
    driver.find_element(By.CSS_SELECTOR, '[data-tab="details"]').click()
    name_input.clear()
    name_input.send_keys(INSTANCE_NAME)
    submit_until_listed(driver, "launch-submit", "instances-table", "launch-error")
    link = wait(driver, 30).until(EC.presence_of_element_located((By.XPATH, f'//table[@id="instances-table"]//a[text()="{INSTANCE_NAME}"]')))
    instance_id = link.find_element(By.XPATH, "./ancestor::tr").get_attribute("data-instance-id")
    step(f"launched {INSTANCE_NAME} ({instance_id})")
    assert not driver.find_elements(By.XPATH, f'//table[@id="instances-table"]//a[text()="{"x" * 257}"]'), "the rejected instance is listed"
    seen = wait_for_status(driver, "instances-table", "instance-id", instance_id, "ACTIVE", 240)
    assert "BUILD" in seen, f"the table never showed BUILD: {seen}"
    assert driver.execute_script("return window.consoleBootId") == boot_id, "the page was reloaded"
    step(f"the table went {' -> '.join(seen)} by itself (no reload)")
    shot(driver, "instances.png")
    return instance_id


def instance_page(driver, instance_id):
    driver.find_element(By.CSS_SELECTOR, f'#instances-table tr[data-instance-id="{instance_id}"] a').click()
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#timeline tr[data-type="InstanceCreateRequested"]'))
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline tr.saga td.saga-step")
                           and any(cell.text.strip() for cell in d.find_elements(By.CSS_SELECTOR, "#timeline tr.saga td.saga-step")),
                           "no saga step in the timeline")
    steps = sorted({cell.text.strip() for cell in driver.find_elements(By.CSS_SELECTOR, "#timeline tr.saga td.saga-step") if cell.text.strip()})
    step(f"the timeline shows InstanceCreateRequested and saga steps {steps[:6]}")
    wait(driver, 30).until(lambda d: "current" in (d.find_element(By.ID, "state-active").get_attribute("class") or ""),
                           "#state-active is not highlighted")
    assert driver.find_elements(By.CSS_SELECTOR, "#statechart .current")
    highlighted = [e.get_attribute("data-state") for e in driver.find_elements(By.CSS_SELECTOR, "#statechart .sc-state.current")]
    step(f"the statechart highlights {highlighted}")
    wait(driver, 40).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#plots .plot, #plots-empty, #plots .error-box"), "the metrics never loaded")
    if driver.find_elements(By.CSS_SELECTOR, "#plots .error-box"):
        PROBLEMS.append(f"metrics: {driver.find_element(By.CSS_SELECTOR, '#plots .error-box').text}")
        step(f"PROBLEM {PROBLEMS[-1]}")
    else:
        charts = driver.find_elements(By.CSS_SELECTOR, "#plots .plot")
        step(f"metrics: {len(charts)} charts" if charts else "metrics: no samples yet (empty state shown)")
    backup(driver)
    slider = driver.find_element(By.ID, "time-travel")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    slider.send_keys(Keys.HOME)
    assert slider.get_attribute("value") == "0", f"the slider is at {slider.get_attribute('value')}"
    wait(driver, 20).until(lambda d: "BUILD" in d.find_element(By.ID, "as-of-view").text, "#as-of-view does not show BUILD")
    past = [e.get_attribute("data-state") for e in driver.find_elements(By.CSS_SELECTOR, "#statechart .sc-state.as-of")]
    step(f"time travel to the first event shows BUILD; the statechart marks {past}")
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, "instance-page.png")


def backup(driver):
    """Takes a backup from the instance page and waits until its row shows COMPLETED."""
    name = wait(driver, 30).until(lambda d: d.find_elements(By.ID, "new-backup-name"), "the backups card never loaded")[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", name)
    name.send_keys("console-backup")
    driver.find_element(By.CSS_SELECTOR, "#new-backup button[type=submit]").click()

    def completed(d):
        try:
            statuses = [row.find_elements(By.TAG_NAME, "td")[1].text.strip() for row in d.find_elements(By.CSS_SELECTOR, "#backups-table tr[data-backup]")]
        except StaleElementReferenceException:  # the card was drawn again meanwhile
            return False
        if "FAILED" in statuses:
            raise AssertionError("the backup failed")
        return "COMPLETED" in statuses

    wait(driver, 180).until(completed, "the backup taken from the console did not complete")
    step("took a backup from the instance page; its row shows COMPLETED")


def delete_instance(driver, instance_id):
    go(driver, "#/instances")
    button = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, f'#instances-table tr[data-instance-id="{instance_id}"] button[data-action="delete"]')))
    button.click()
    confirm_dialog(driver)
    wait(driver, 180).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'#instances-table tr[data-instance-id="{instance_id}"]'),
                            "the deleted instance's row is still there")
    step("deleted the instance; its row disappeared")


def cluster(driver):
    go(driver, "#/launch-cluster")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "cluster-name"))).send_keys(CLUSTER_NAME)
    select_by_text_prefix(driver.find_element(By.ID, "cluster-datastore"), "postgresql")
    smallest_flavor(driver.find_element(By.ID, "cluster-flavor"))
    for element_id, value in (("cluster-volume", "1"), ("cluster-size", "3")):
        field = driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(value)
    for index, weight in enumerate((100, 50, 10)):
        field = wait(driver).until(EC.visibility_of_element_located((By.ID, f"cluster-weight-{index}")))
        field.clear()
        field.send_keys(str(weight))
    submit_until_listed(driver, "cluster-submit", "clusters-table", "cluster-error")
    link = wait(driver, 30).until(EC.presence_of_element_located((By.XPATH, f'//table[@id="clusters-table"]//a[text()="{CLUSTER_NAME}"]')))
    cluster_id = link.find_element(By.XPATH, "./ancestor::tr").get_attribute("data-cluster-id")
    step(f"launched cluster {CLUSTER_NAME} ({cluster_id})")
    seen = wait_for_status(driver, "clusters-table", "cluster-id", cluster_id, "ACTIVE", 480)
    step(f"the clusters table went {' -> '.join(seen)}")
    shot(driver, "clusters.png")

    driver.find_element(By.CSS_SELECTOR, f'#clusters-table tr[data-cluster-id="{cluster_id}"] a').click()

    def roles(d):
        found = sorted(cell.text.strip() for cell in d.find_elements(By.CSS_SELECTOR, "#members-table td.role"))
        return found if found == ["primary", "replica", "replica"] else False

    wait(driver, 60).until(roles, "the members are not one primary and two replicas")
    wait(driver, 120).until(lambda d: all(cell.text.strip() == "ACTIVE" for cell in d.find_elements(By.CSS_SELECTOR, "#members-table td.status")),
                            "not every member is ACTIVE")
    primary_weight = driver.find_element(By.XPATH, '//table[@id="members-table"]//tr[@data-role="primary"]/td[3]').text
    step(f"members: one primary (weight {primary_weight}), two replicas, all ACTIVE")
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#timeline tr[data-type="ClusterCreateRequested"]'), "no ClusterCreateRequested in the timeline")
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#statechart .sc-state.current"), "the cluster statechart has no current state")
    assert "current" in driver.find_element(By.ID, "state-active").get_attribute("class")
    step("the cluster's timeline and statechart (active) are shown")
    shot(driver, "cluster-page.png")

    driver.find_element(By.ID, "cluster-delete").click()
    confirm_dialog(driver)
    go(driver, "#/clusters")
    wait(driver, 300).until(lambda d: d.find_elements(By.ID, "clusters-table")
                            and not d.find_elements(By.CSS_SELECTOR, f'#clusters-table tr[data-cluster-id="{cluster_id}"]'),
                            "the deleted cluster's row is still there")
    step("deleted the cluster; its row disappeared")


def log_out(driver):
    driver.find_element(By.ID, "logout").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "login-user")))
    status = browser_fetch(driver, "/console/api/session")
    assert status == 401, f"GET /console/api/session after logout answered {status}"
    step("logged out; the session answers 401")


def main():
    driver = start_browser()
    try:
        driver.set_script_timeout(60)
        log_in(driver)
        boot_id = driver.execute_script("return window.consoleBootId")
        assert boot_id, "window.consoleBootId is not set"
        rejected_launch(driver)
        instance_id = launch_instance(driver, boot_id)
        instance_page(driver, instance_id)
        delete_instance(driver, instance_id)
        cluster(driver)
        assert driver.execute_script("return window.consoleBootId") == boot_id, "the page was reloaded"
        log_out(driver)
        assert not PROBLEMS, "; ".join(PROBLEMS)
        print("console flow: ok")
        return 0
    except Exception as error:
        traceback.print_exc()
        os.makedirs(SHOTS, exist_ok=True)
        try:
            driver.save_screenshot(os.path.join(SHOTS, "failure.png"))
            with open(os.path.join(SHOTS, "browser-console.log"), "w") as log:
                for entry in driver.get_log("browser"):
                    log.write(json.dumps(entry) + "\n")
        except WebDriverException:
            pass
        print(f"console flow: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
