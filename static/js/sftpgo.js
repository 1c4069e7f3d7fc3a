// sftpgo-ts web UIs: progressive enhancement only. Every page works without this script; with
// it, destructive buttons ask for confirmation, "select all" boxes work and fetch() calls carry
// the CSRF token. Loaded from our origin (the CSP allows no inline script).
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';

  /** fetch with the CSRF header and the marker that makes the server answer 401, not a redirect */
  function csrfFetch(url, opts) {
    opts = opts || {};
    var headers = new Headers(opts.headers || {});
    headers.set('X-CSRF-Token', csrf);
    headers.set('X-Requested-With', 'fetch');
    opts.headers = headers;
    opts.credentials = 'same-origin';
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) window.location.reload();
      return r;
    });
  }
  window.sftpgo = { fetch: csrfFetch, csrf: csrf };

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    // the button that submitted may carry its own confirmation (several actions in one form)
    var by = ev.submitter;
    var msg =
      (by && by.getAttribute && by.getAttribute('data-confirm')) ||
      (form && form.getAttribute && form.getAttribute('data-confirm'));
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      return;
    }
    if (form && form.hasAttribute && form.hasAttribute('data-upload')) uploadWithProgress(ev, form);
  });

  /**
   * An upload form sent with XMLHttpRequest to show its progress; the answer (the directory
   * page, after the redirect, or the page with the error) then replaces the current page.
   */
  function uploadWithProgress(ev, form) {
    if (!window.XMLHttpRequest || !window.FormData) return;
    ev.preventDefault();
    var bar = form.querySelector('[data-upload-progress]');
    var button = form.querySelector('button[type="submit"]');
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.upload.addEventListener('progress', function (e) {
      if (bar && e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener('load', function () {
      if (xhr.status < 400 && xhr.responseURL) {
        window.location.assign(xhr.responseURL);
        return;
      }
      var doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      document.title = doc.title;
      document.body.replaceWith(document.adoptNode(doc.body));
    });
    xhr.addEventListener('error', function () {
      if (button) button.disabled = false;
      if (bar) bar.classList.add('hidden');
      window.alert('The upload failed: the connection was interrupted.');
    });
    if (bar) {
      bar.value = 0;
      bar.classList.remove('hidden');
    }
    if (button) button.disabled = true;
    xhr.send(new FormData(form));
  }

  document.addEventListener('change', function (ev) {
    var box = ev.target;
    var name = box && box.getAttribute && box.getAttribute('data-select-all');
    if (!name) return;
    var scope = box.form || document;
    scope.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (c) {
      c.checked = box.checked;
    });
  });
})();
