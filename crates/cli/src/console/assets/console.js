// Tributary console: small progressive enhancements. Every page works without this script; with it,
// connection tests run in place through the REST API (the session cookie plus the CSRF header).
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method,
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (response) => {
      let payload = null;
      try {
        payload = await response.json();
      } catch (_) {
        payload = null;
      }
      return { ok: response.ok, status: response.status, payload };
    });
  }

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    for (const child of children || []) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // The same report the server renders (layout::check_report), built with text nodes only.
  function reportNode(report) {
    const ms = Math.round(report.latency_ms || 0);
    if (report.error) {
      const parts = [
        el("p", {}, [el("strong", {}, ["Could not connect"]), " after " + ms + " ms"]),
        el("p", {}, [el("strong", {}, [report.error.kind + ": "]), report.error.message]),
      ];
      if (report.error.hint) parts.push(el("p", { class: "hint" }, [report.error.hint]));
      return el("div", { class: "panel error report" }, parts);
    }
    const parts = [el("p", {}, [el("strong", {}, ["Connected"]), " in " + ms + " ms"])];
    if (report.server) {
      parts.push(el("p", {}, [report.server.product + (report.server.version ? " " + report.server.version : "")]));
      const details = Object.entries(report.server.details || {});
      if (details.length) {
        const list = el("dl", { class: "details" });
        for (const [key, value] of details) {
          list.append(el("dt", {}, [key]), el("dd", {}, [typeof value === "string" ? value : JSON.stringify(value)]));
        }
        parts.push(list);
      }
    }
    return el("div", { class: "panel ok report" }, parts);
  }

  function errorNode(error) {
    const parts = [el("p", {}, [el("strong", {}, ["Error (" + error.code + "): "]), error.message])];
    if (error.hint) parts.push(el("p", { class: "hint" }, [error.hint]));
    return el("div", { class: "panel error", role: "alert" }, parts);
  }

  function clearFieldErrors(form) {
    for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
    for (const node of form.querySelectorAll(".field.invalid")) node.classList.remove("invalid");
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function showFieldErrors(form, fields) {
    for (const field of fields || []) {
      const name = field.field.includes(".") || field.field === "name" ? field.field : "config." + field.field;
      const slot = form.querySelector('.field-error[data-field="' + CSS.escape(name) + '"]');
      const input = form.querySelector('[name="' + CSS.escape(name) + '"]');
      if (slot) slot.textContent = field.message;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.closest(".field")?.classList.add("invalid");
      }
    }
  }

  async function show(result, target, pending) {
    target.replaceChildren(el("p", { class: "muted" }, [pending]));
    try {
      return await render(result, target);
    } finally {
      target.scrollIntoView({ block: "center" });
    }
  }

  async function render(result, target) {
    try {
      const response = await result;
      if (response.ok) {
        target.replaceChildren(reportNode(response.payload));
      } else if (response.payload && response.payload.error) {
        target.replaceChildren(errorNode(response.payload.error));
        return response.payload.error;
      } else {
        target.replaceChildren(errorNode({ code: "http_" + response.status, message: "The server answered " + response.status + ".", hint: "Reload the page; sign in again if your session ended." }));
      }
    } catch (failure) {
      target.replaceChildren(errorNode({ code: "unreachable", message: "The console could not reach the server.", hint: "Check that tributary serve is still running." }));
    }
    return null;
  }

  // The wizard's "Test connection": tests the unsaved settings.
  const wizard = document.getElementById("connector-form");
  const testConfig = document.querySelector("[data-test-config]");
  if (wizard && testConfig) {
    testConfig.addEventListener("click", async (event) => {
      event.preventDefault();
      clearFieldErrors(wizard);
      const config = {};
      for (const [key, value] of new FormData(wizard).entries()) {
        if (key.startsWith("config.") && typeof value === "string" && value.trim() !== "") {
          config[key.slice("config.".length)] = value;
        }
      }
      const target = document.getElementById("test-result");
      testConfig.disabled = true;
      const error = await show(
        api("POST", "/connectors/test", { connector_type: wizard.dataset.connectorType, config }),
        target,
        "Testing…",
      );
      testConfig.disabled = false;
      if (error) showFieldErrors(wizard, error.fields);
    });
  }

  // A saved connector's "Test connection".
  const testConnector = document.querySelector("[data-test-connector]");
  if (testConnector) {
    testConnector.addEventListener("click", async (event) => {
      event.preventDefault();
      const target = document.getElementById("test-result");
      testConnector.disabled = true;
      await show(api("POST", "/connectors/" + encodeURIComponent(testConnector.dataset.testConnector) + "/test"), target, "Testing…");
      testConnector.disabled = false;
    });
  }

  // Forms that destroy something ask first.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
})();
