// Starts GraphiQL on the page TRM serves at GET /graphql (src/server/graphiql.rs). A file of its
// own: the page's Content-Security-Policy allows no inline script.
'use strict';
(function () {
  // The nonce of the page's style-src, which the page gives this script tag: GraphiQL's dialogs
  // add a <style> element (react-remove-scroll) with the nonce they find here.
  window.__webpack_nonce__ = document.currentScript.nonce;

  // GraphiQL keeps its tabs and history in localStorage. Its history saves every query it ran
  // with the headers it was sent with, Authorization included, whatever shouldPersistHeaders
  // says: this storage keeps the history (and the favourites) without their headers, so that
  // no bearer token stays behind in the browser.
  var prefix = 'graphiql:';
  function ownKeys() {
    return Object.keys(localStorage).filter(function (key) {
      return key.indexOf(prefix) === 0;
    });
  }
  function withoutHeaders(key, value) {
    var list = key.slice(prefix.length);
    if (list !== 'queries' && list !== 'favorites') {
      return value;
    }
    var saved = JSON.parse(value);
    (saved[list] || []).forEach(function (entry) {
      delete entry.headers;
    });
    return JSON.stringify(saved);
  }
  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      localStorage.setItem(key, withoutHeaders(key, value));
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    clear: function () {
      ownKeys().forEach(function (key) {
        localStorage.removeItem(key);
      });
    },
    get length() {
      return ownKeys().length;
    },
  };

  // The page is served at the GraphQL endpoint itself (GET: this page, POST: the API), so
  // requests go to the page's own path, behind whatever prefix a reverse proxy adds. GraphiQL's
  // fetcher sends the headers of its Headers pane with each request: that is where the
  // Authorization header goes.
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
    })
  );
})();
