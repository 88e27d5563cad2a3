/* 法人一证通 in the browser: the agent's ECDSA P-256 key lives in IndexedDB as a non-extractable CryptoKey
   (made here, or imported once from a PKCS#8 key file and then kept non-extractable). It signs sign-in
   challenges and case submissions; the private key never leaves the browser. */
(function () {
  "use strict";
  var DB = "tongban-certificates", STORE = "keys";

  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(DB, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "spki" }); };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result.result !== undefined ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function allKeys() { return tx("readonly", function (s) { return s.getAll(); }); }
  function putKey(record) { return tx("readwrite", function (s) { return s.put(record); }); }

  function b64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }
  function unb64(text) {
    var raw = atob(text), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }
  var ALG = { name: "ECDSA", namedCurve: "P-256" }, SIGN = { name: "ECDSA", hash: "SHA-256" };

  function sign(privateKey, text) {
    return crypto.subtle.sign(SIGN, privateKey, new TextEncoder().encode(text)).then(b64);
  }
  function csrf() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.detail || response.statusText);
        return data;
      });
    });
  }
  function say(node, text, ok) {
    if (!node) return;
    node.textContent = text;
    node.className = ok ? "alert alert-success" : "alert alert-danger";
    node.hidden = false;
  }

  /* A new key in the browser: the private half cannot be exported, not even by this page. */
  function newKey(label) {
    return crypto.subtle.generateKey(ALG, false, ["sign", "verify"]).then(function (pair) {
      return crypto.subtle.exportKey("spki", pair.publicKey).then(function (spki) {
        var record = { spki: b64(spki), privateKey: pair.privateKey, label: label, created: new Date().toISOString() };
        return putKey(record).then(function () { return record; });
      });
    });
  }
  /* A PKCS#8 key file (PEM or DER): read once, kept non-extractable from then on. */
  function importKeyFile(file, label) {
    return file.arrayBuffer().then(function (buffer) {
      var text = new TextDecoder().decode(buffer), der = buffer;
      if (text.indexOf("-----BEGIN") >= 0) der = unb64(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
      return crypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]).then(function (extractable) {
        return crypto.subtle.exportKey("jwk", extractable).then(function (jwk) {
          var pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
          return Promise.all([
            crypto.subtle.importKey("jwk", pub, ALG, true, ["verify"]).then(function (k) { return crypto.subtle.exportKey("spki", k); }),
            crypto.subtle.importKey("pkcs8", der, ALG, false, ["sign"])
          ]);
        });
      }).then(function (parts) {
        var record = { spki: b64(parts[0]), privateKey: parts[1], label: label, created: new Date().toISOString() };
        return putKey(record).then(function () { return record; });
      });
    });
  }

  function requestCertificate(button) {
    var out = document.getElementById(button.dataset.output), file = document.getElementById(button.dataset.file);
    var label = button.dataset.label;
    var making = file && file.files && file.files.length ? importKeyFile(file.files[0], label) : newKey(label);
    making.then(function (record) {
      return post(button.dataset.challenge).then(function (challenge) {
        return sign(record.privateKey, challenge.prefix + challenge.nonce).then(function (signature) {
          return post(button.dataset.url, { public_key: record.spki, nonce: challenge.nonce, signature: signature });
        });
      });
    }).then(function () {
      say(out, button.dataset.done, true);
      setTimeout(function () { location.reload(); }, 800);
    }).catch(function (error) { say(out, error.message, false); });
  }

  function signIn(form) {
    var out = document.getElementById("tb-cert-result"), choice = form.querySelector("select[name=key]");
    allKeys().then(function (keys) {
      var record = keys.filter(function (k) { return k.spki === choice.value; })[0];
      if (!record) throw new Error(form.dataset.nokey);
      return post(form.dataset.challenge).then(function (challenge) {
        return sign(record.privateKey, challenge.prefix + challenge.nonce).then(function (signature) {
          return post(form.action, { public_key: record.spki, nonce: challenge.nonce, signature: signature, next: form.dataset.next });
        });
      });
    }).then(function (data) { location.assign(data.next); })
      .catch(function (error) { say(out, error.message, false); });
  }

  function listKeys(select, empty) {
    return allKeys().then(function (keys) {
      select.innerHTML = "";
      keys.forEach(function (k) {
        var option = document.createElement("option");
        option.value = k.spki;
        option.textContent = (k.label || "") + " · " + k.created.slice(0, 10);
        select.appendChild(option);
      });
      if (empty) empty.hidden = keys.length > 0;
      return keys;
    });
  }

  function signCase(button) {
    var out = document.getElementById(button.dataset.output);
    var certificates = JSON.parse(document.getElementById("tb-usable-certificates").textContent);
    allKeys().then(function (keys) {
      var mine = null, record = null;
      certificates.forEach(function (c) {
        keys.forEach(function (k) { if (!mine && k.spki === c.spki) { mine = c; record = k; } });
      });
      if (!mine) throw new Error(button.dataset.nokey);
      return fetch(button.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          return sign(record.privateKey, data.payload).then(function (signature) {
            return post(button.dataset.url, { serial: mine.serial, signature: signature });
          });
        });
    }).then(function () { say(out, button.dataset.done, true); })
      .catch(function (error) { say(out, error.message, false); });
  }

  /* Canonical JSON as Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
  function canonical(value) {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ":" + canonical(value[k]);
      }).join(",") + "}";
    }
    return JSON.stringify(value);
  }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var UNSIGNED = ["tb_signature", "tb_signature_serial", "csrfmiddlewaretoken"];
  /* The form as it will be sent (cases/signing.py form_canonical): every field's values, each file by name, size
     and SHA-256. */
  function formCanonical(form) {
    var fields = {}, files = {}, hashing = [];
    new FormData(form).forEach(function (value, name) {
      if (UNSIGNED.indexOf(name) >= 0) return;
      if (value instanceof File) {
        if (!value.name && !value.size) return;  // an empty file input sends nothing
        var entry = { name: value.name, size: value.size, sha256: "" };
        (files[name] = files[name] || []).push(entry);
        hashing.push(value.arrayBuffer().then(function (b) { return crypto.subtle.digest("SHA-256", b); })
          .then(function (d) { entry.sha256 = hex(d); }));
      } else {
        (fields[name] = fields[name] || []).push(String(value).replace(/\r\n?/g, "\n"));
      }
    });
    return Promise.all(hashing).then(function () { return canonical({ v: 2, fields: fields, files: files }); });
  }
  function signForm(form, box) {
    var status = box.querySelector("[data-tb-signing-status]");
    var byOption = JSON.parse(document.getElementById("tb-signing-certificates").textContent);
    var chosen = form.querySelector("input[name=applicant]:checked") || form.querySelector("input[name=applicant]");
    var certificates = byOption[chosen ? chosen.value : ""] || [];
    function send() { form.dataset.tbSigned = "1"; form.submit(); }
    if (!certificates.length) return send();  // applying as oneself: nothing to sign
    status.textContent = box.dataset.signing;
    allKeys().then(function (keys) {
      var mine = null, record = null;
      certificates.forEach(function (c) {
        keys.forEach(function (k) { if (!mine && k.spki === c.spki) { mine = c; record = k; } });
      });
      if (!mine) {
        status.textContent = box.dataset.nokey;
        return new Promise(function (resolve) { setTimeout(resolve, 1500); }).then(send);
      }
      return formCanonical(form).then(function (text) { return sign(record.privateKey, text); })
        .then(function (signature) {
          form.querySelector("input[name=tb_signature_serial]").value = mine.serial;
          form.querySelector("input[name=tb_signature]").value = signature;
          send();
        });
    }).catch(function (error) { say(status, error.message, false); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var signBox = document.querySelector("[data-tb-sign-form]");
    if (signBox) {
      var applyForm = signBox.closest("form");
      applyForm.addEventListener("submit", function (event) {
        if (applyForm.dataset.tbSigned === "1") return;
        event.preventDefault();
        signForm(applyForm, signBox);
      });
    }
    var form = document.getElementById("tb-cert-sign-in");
    if (form) {
      listKeys(form.querySelector("select[name=key]"), document.getElementById("tb-cert-none"));
      form.addEventListener("submit", function (event) { event.preventDefault(); signIn(form); });
    }
    document.querySelectorAll("[data-tb-cert-request]").forEach(function (button) {
      button.addEventListener("click", function () { requestCertificate(button); });
    });
    document.querySelectorAll("[data-tb-sign-case]").forEach(function (button) {
      button.addEventListener("click", function () { signCase(button); });
    });
  });
  window.tongbanCertificates = { allKeys: allKeys, newKey: newKey, importKeyFile: importKeyFile, formCanonical: formCanonical };
})();
