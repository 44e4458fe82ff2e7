// The search page's enhancement: Pagefind's UI over the index built with the site (scripts/local-registry.ts).
// pagefind-ui.js, loaded before this module, defines PagefindUI; a build without the index (astro dev)
// leaves the page's plain lists alone.
declare global {
  interface Window {
    PagefindUI?: new (options: Record<string, unknown>) => unknown;
  }
}

const PagefindUI = window.PagefindUI;
const root = document.getElementById("search");
if (PagefindUI && root) {
  new PagefindUI({ element: "#search", showSubResults: true, showImages: false, resetStyles: false });
  // Pagefind's input carries only a placeholder and a title: name it by the page's visible heading.
  const name = () => {
    const input = root.querySelector("input");
    input?.setAttribute("aria-labelledby", "search-label");
    return Boolean(input);
  };
  if (!name()) {
    const observer = new MutationObserver(() => name() && observer.disconnect());
    observer.observe(root, { childList: true, subtree: true });
  }
}

export {};
