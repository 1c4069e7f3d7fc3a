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
    var msg = form && form.getAttribute && form.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

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
