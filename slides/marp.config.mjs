// Marp CLI's settings for the deck. `./run.sh slides` (services/deck) runs Marp with this file on
// the Markdown it expanded into slides/dist/; see slides/README.md.
export default {
  // Raw HTML in the Markdown: a two-column layout, small captions.
  html: true,
  // The kit's theme: Marp's default theme with larger code and a few layouts.
  themeSet: ['theme.css'],
  options: {
    // Emoji stay text: Marp would otherwise draw them as images from a CDN, and the deck must
    // present offline.
    emoji: { shortcode: false, unicode: false },
    // No slide uses math; MathJax would add half a megabyte to the file.
    math: false,
  },
  bespoke: {
    // A thin progress bar at the top: where the room is in the workshop.
    progress: true,
  },
  // The deck embeds its images as data: URIs, so that the HTML is one file. markdown-it refuses
  // SVG ones by default (it allows only gif, png, jpeg and webp); these diagrams are ours, and
  // an SVG in an <img> runs no script, so SVG is allowed too.
  engine: ({ marp }) => {
    const validateLink = marp.markdown.validateLink
    marp.markdown.validateLink = (url) =>
      url.startsWith('data:image/svg+xml;base64,') || validateLink(url)
    return marp
  },
}
