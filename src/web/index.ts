/** The web page of `serve` and `report`: page data (pure), the HTML shell, the local server and file watching (edge). */
export * from './assets.js'
export * from './html.js'
export * from './page-data.js'
export * from './server.js'
export * from './watch.js'
